// Fixed shape of https://github.com/mercurius-js/mercurius/pull/1031: the close handler
// removes exactly the listener that was added.
const EventEmitter = require('events');
const fastify = require('fastify')();

const bus = new EventEmitter();

fastify.get('/subscribe/:topic', (request, reply) => {
  const queue = [];
  const listener = (value) => queue.push(value);
  bus.on(request.params.topic, listener);
  request.raw.on('close', () => {
    bus.removeListener(request.params.topic, listener);
  });
  reply.send({ ok: true });
});

module.exports = fastify;
