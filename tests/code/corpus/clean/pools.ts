// Well-written pool use (no finding expected).
import express from 'express';
import { Pool, PoolClient } from 'pg';
import mysql from 'mysql';

const pool = new Pool({ max: 10 });
const legacy = mysql.createPool({ connectionLimit: 5 });
export const app = express();

app.get('/a', async (req, res) => {
  const { rows } = await pool.query('SELECT 1');
  res.json(rows);
});

app.get('/b', async (req, res) => {
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
    const { rows } = await client.query('SELECT 2');
    res.json(rows);
  } finally {
    client?.release();
  }
});

export async function withClient<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

export async function checkout(): Promise<PoolClient> {
  const client = await pool.connect();
  return client; // handed to the caller, who releases it
}

app.get('/c', (req, res, next) => {
  legacy.getConnection((err, conn) => {
    if (err) return next(err);
    conn.query('SELECT 3', (qerr, rows) => {
      conn.release();
      if (qerr) return next(qerr);
      res.json(rows);
    });
  });
});

app.get('/d', async (req, res) => {
  const conn = await pool.connect();
  try {
    await conn.query('SELECT 4');
  } catch (err) {
    console.error(err);
  }
  conn.release();
  res.sendStatus(204);
});
