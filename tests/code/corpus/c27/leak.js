// Modelled on https://github.com/isaacs/node-lru-cache/issues/227 ("not setting a max is
// definitely the key component here"; the workaround was to set max).
const express = require('express');
const LRU = require('lru-cache');

const pages = new LRU(); // LEAK unbounded-cache
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
