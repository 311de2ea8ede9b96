// Fixed shape of https://github.com/isaacs/node-lru-cache/issues/227: a max.
const express = require('express');
const LRU = require('lru-cache');

const pages = new LRU({ max: 500 });
const app = express();

app.get('/render/:page', (req, res) => {
  let html = pages.get(req.params.page);
  if (!html) {
    html = `<h1>${req.params.page}</h1>`;
    pages.set(req.params.page, html);
  }
  res.send(html);
});

module.exports = app;
