// Modelled on https://github.com/GoogleCloudPlatform/nodejs-docs-samples/pull/601 ("Remove
// redundant error listener from Redis client": one more listener on every request).
const express = require('express');
const redis = require('redis');

const client = redis.createClient();
const app = express();

app.get('/', (req, res, next) => {
  client.on('error', (err) => next(err)); // LEAK listener-leak
  client.incr('visits', (err, visits) => {
    if (err) return next(err);
    res.send(`Visitor number: ${visits}`);
  });
});

module.exports = app;
