// Fixed shape of https://github.com/unjs/ocache/issues/35: a bounded LRU with a TTL.
const express = require('express');
const { LRUCache } = require('lru-cache');

const app = express();
const responseCache = new LRUCache({ max: 1000, ttl: 60000 });

app.use((req, res, next) => {
  const hit = responseCache.get(req.originalUrl);
  if (hit) return res.send(hit);
  const send = res.send.bind(res);
  res.send = (body) => {
    responseCache.set(req.originalUrl, body);
    return send(body);
  };
  next();
});

module.exports = app;
