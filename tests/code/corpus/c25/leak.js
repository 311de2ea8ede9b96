// Modelled on https://github.com/facundoolano/google-play-scraper/issues/103 ("add some limit to
// memoization": on prolonged use it ate all memory; fixed to 1000 cached results per method).
const express = require('express');
const memoize = require('memoizee');

async function appDetails(appId) {
  return { appId };
}

const cachedDetails = memoize(appDetails, { promise: true }); // LEAK unbounded-cache
const app = express();

app.get('/apps/:appId', async (req, res) => {
  res.json(await cachedDetails(req.params.appId));
});

module.exports = app;
