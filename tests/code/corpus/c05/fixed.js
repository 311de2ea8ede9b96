// Fixed shape of https://github.com/redis/node-redis/issues/2179: one client for the
// process, connected once (the maintainers' advice in that thread).
const express = require('express');
const { createClient } = require('redis');

const app = express();
const client = createClient({ url: process.env.REDIS_URL });
client.connect();

async function readAll(key) {
  return client.hGetAll(key);
}

app.get('/profile/:id', async (req, res) => {
  res.json(await readAll(`profile:${req.params.id}`));
});

module.exports = app;
