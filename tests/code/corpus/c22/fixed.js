// Fixed shape of https://github.com/RafalWilinski/express-status-monitor/issues/22.
const express = require('express');
const os = require('os');

const app = express();

app.get('/status/stream', (req, res) => {
  res.setHeader('Content-Type', 'text/event-stream');
  const timer = setInterval(() => {
    res.write(`data: ${JSON.stringify({ load: os.loadavg() })}\n\n`);
  }, 1000);
  req.on('close', () => clearInterval(timer));
  res.write(': connected\n\n');
});

module.exports = app;
