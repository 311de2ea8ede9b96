// Fixed shape of https://github.com/GoogleCloudPlatform/nodejs-docs-samples/pull/601: one
// error listener, added once at start-up.
const express = require('express');
const redis = require('redis');

const client = redis.createClient();
client.on('error', (err) => console.error('redis error', err));
const app = express();

app.get('/', (req, res, next) => {
  client.incr('visits', (err, visits) => {
    if (err) return next(err);
    res.send(`Visitor number: ${visits}`);
  });
});

module.exports = app;
