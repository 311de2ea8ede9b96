// Modelled on https://github.com/No-Trade-No-Life/Yuan/pull/1139 ("release client to pool
// when errored"): the release was on the success path only, the catch did not release.
import Router from '@koa/router';
import mysql from 'mysql2/promise';

const pool = mysql.createPool({ uri: process.env.DATABASE_URL });
export const router = new Router();

router.post('/events', async (ctx) => {
  const conn = await pool.getConnection(); // LEAK unreleased-connection
  try {
    await conn.execute('INSERT INTO events(payload) VALUES (?)', [JSON.stringify(ctx.request.body)]);
    conn.release();
    ctx.status = 201;
  } catch (err) {
    ctx.status = 500;
    throw err;
  }
});
