// Fixed shape of https://github.com/facundoolano/google-play-scraper/issues/103: max 1000.
const express = require('express');
const memoize = require('memoizee');

async function appDetails(appId) {
  return { appId };
}

const cachedDetails = memoize(appDetails, { promise: true, max: 1000 });
const app = express();

app.get('/apps/:appId', async (req, res) => {
  res.json(await cachedDetails(req.params.appId));
});

module.exports = app;
