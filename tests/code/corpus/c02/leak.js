// Modelled on https://github.com/graphile/crystal/pull/978 ("release pg-pool connection
// regardless of whether commit throws"): the release sat after COMMIT, outside finally.
const { Pool } = require('pg');
const express = require('express');

const pool = new Pool();
const app = express();

app.post('/transfer', async (req, res) => {
  const client = await pool.connect(); // LEAK unreleased-connection
  await client.query('BEGIN');
  await client.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [req.body.amount, req.body.from]);
  await client.query('COMMIT');
  client.release();
  res.sendStatus(204);
});

module.exports = app;
