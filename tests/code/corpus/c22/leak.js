// Modelled on https://github.com/RafalWilinski/express-status-monitor/issues/22 ("SetInterval
// Leak": clearInterval should be called when the client goes away), as a server-sent-events route.
const express = require('express');
const os = require('os');

const app = express();

app.get('/status/stream', (req, res) => {
  res.setHeader('Content-Type', 'text/event-stream');
  const timer = setInterval(() => { // LEAK uncleared-timer
    res.write(`data: ${JSON.stringify({ load: os.loadavg() })}\n\n`);
  }, 1000);
  res.write(': connected\n\n');
});

module.exports = app;
