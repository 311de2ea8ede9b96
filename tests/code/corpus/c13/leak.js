// Modelled on https://github.com/stegano/next-http-proxy-middleware/pull/65 (one global proxy;
// every request bound a new handler to its events).
const express = require('express');
const httpProxy = require('http-proxy');

const proxy = httpProxy.createProxyServer({});
const app = express();

app.all('/api/*', (req, res) => {
  proxy.on('proxyRes', (proxyRes) => { // LEAK listener-leak
    res.setHeader('x-upstream-status', proxyRes.statusCode);
  });
  proxy.web(req, res, { target: process.env.UPSTREAM });
});

module.exports = app;
