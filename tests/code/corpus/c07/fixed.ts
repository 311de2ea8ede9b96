// Fixed shape of https://github.com/No-Trade-No-Life/Yuan/pull/1139: released on the error
// path too.
import Router from '@koa/router';
import mysql from 'mysql2/promise';

const pool = mysql.createPool({ uri: process.env.DATABASE_URL });
export const router = new Router();

router.post('/events', async (ctx) => {
  const conn = await pool.getConnection();
  try {
    await conn.execute('INSERT INTO events(payload) VALUES (?)', [JSON.stringify(ctx.request.body)]);
    conn.release();
    ctx.status = 201;
  } catch (err) {
    conn.release();
    ctx.status = 500;
    throw err;
  }
});
