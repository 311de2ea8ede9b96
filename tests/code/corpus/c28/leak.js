// Modelled on https://github.com/unjs/ocache/issues/35 ("createMemoryStorage is unbounded";
// per-URL keys accumulate until the process dies), as an express response cache.
const express = require('express');

const app = express();
const responseCache = {};

app.use((req, res, next) => {
  const hit = responseCache[req.originalUrl];
  if (hit) return res.send(hit);
  const send = res.send.bind(res);
  res.send = (body) => {
    responseCache[req.originalUrl] = body; // LEAK unbounded-cache
    return send(body);
  };
  next();
});

module.exports = app;
