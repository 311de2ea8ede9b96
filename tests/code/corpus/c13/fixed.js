// Fixed shape of https://github.com/stegano/next-http-proxy-middleware/pull/65: one handler,
// bound once; per-request data travels on the request.
const express = require('express');
const httpProxy = require('http-proxy');

const proxy = httpProxy.createProxyServer({});
proxy.on('proxyRes', (proxyRes, req, res) => {
  res.setHeader('x-upstream-status', proxyRes.statusCode);
});
const app = express();

app.all('/api/*', (req, res) => {
  proxy.web(req, res, { target: process.env.UPSTREAM });
});

module.exports = app;
