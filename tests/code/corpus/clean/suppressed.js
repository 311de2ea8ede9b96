// A finding reviewed and accepted: the comment suppresses it (and only it).
const express = require('express');

const app = express();
const tenants = new Set();

app.get('/t/:tenant', (req, res) => {
  // depaudit-ignore-next-line growing-collection at most 40 tenants, validated by the auth layer
  tenants.add(req.params.tenant);
  res.sendStatus(204);
});

module.exports = app;
