// Fixed shape of https://github.com/denodrivers/postgres/issues/276: try/finally.
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ max: 5 });
const fastify = Fastify();

fastify.get('/users', async (request, reply) => {
  const client = await pool.connect();
  try {
    const result = await client.query('SELECT id, name FROM users');
    return result.rows;
  } finally {
    client.release();
  }
});

export default fastify;
