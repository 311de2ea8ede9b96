// Modelled on https://github.com/santanu-atta03/Intervyo/pull/196 ("Fix memory leak in
// InterviewSocket session cleanup": activeSessions and socket mappings were never removed).
const express = require('express');

const router = express.Router();
const activeSessions = new Map();

router.post('/interviews/:id/start', (req, res) => {
  const session = { id: req.params.id, startedAt: Date.now(), answers: [] };
  activeSessions.set(req.params.id, session); // LEAK growing-collection
  res.status(201).json({ id: session.id });
});

router.post('/interviews/:id/answer', (req, res) => {
  const session = activeSessions.get(req.params.id);
  if (session) session.answers.push(req.body);
  res.sendStatus(204);
});

module.exports = router;
