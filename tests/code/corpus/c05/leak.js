// Modelled on https://github.com/redis/node-redis/issues/2179: a client created, connected
// and quit per call; when the command throws, quit() is skipped and the socket stays open.
const express = require('express');
const { createClient } = require('redis');

const app = express();

async function readAll(key) {
  const client = createClient({ url: process.env.REDIS_URL }); // LEAK unreleased-connection
  await client.connect();
  const res = await client.hGetAll(key);
  await client.quit();
  return res;
}

app.get('/profile/:id', async (req, res) => {
  res.json(await readAll(`profile:${req.params.id}`));
});

module.exports = app;
