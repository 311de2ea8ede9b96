// Fixed shape of https://github.com/graphile/crystal/pull/978: release in finally.
const { Pool } = require('pg');
const express = require('express');

const pool = new Pool();
const app = express();

app.post('/transfer', async (req, res) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [req.body.amount, req.body.from]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
  res.sendStatus(204);
});

module.exports = app;
