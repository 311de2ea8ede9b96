// Modelled on https://github.com/denodrivers/postgres/issues/276 ("Shouldn't try/finally be
// used for releasing pool connection?"), as a fastify route with node-postgres.
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ max: 5 });
const fastify = Fastify();

fastify.get('/users', async (request, reply) => {
  const client = await pool.connect(); // LEAK unreleased-connection
  const result = await client.query('SELECT id, name FROM users');
  client.release();
  return result.rows;
});

export default fastify;
