// Modelled on https://github.com/mercurius-js/mercurius/pull/1031 and issue #1028 (each
// subscription added a listener to the shared emitter; close() removed another function).
const EventEmitter = require('events');
const fastify = require('fastify')();

const bus = new EventEmitter();

fastify.get('/subscribe/:topic', (request, reply) => {
  const queue = [];
  bus.on(request.params.topic, (value) => queue.push(value)); // LEAK listener-leak
  request.raw.on('close', () => {
    queue.length = 0;
  });
  reply.send({ ok: true });
});

module.exports = fastify;
