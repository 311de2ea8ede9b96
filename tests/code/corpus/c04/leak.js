// Modelled on https://github.com/coopernurse/node-pool/issues/182 (generic-pool: release on
// every branch of the acquire callback's user), here with the promise API and an early return.
const genericPool = require('generic-pool');
const Koa = require('koa');

const smtpPool = genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 4 });
const app = new Koa();

app.use(async (ctx, next) => {
  const transport = await smtpPool.acquire(); // LEAK unreleased-connection
  if (!ctx.request.body || !ctx.request.body.to) {
    ctx.status = 400;
    return;
  }
  transport.send(ctx.request.body);
  smtpPool.release(transport);
  ctx.status = 202;
  await next();
});

module.exports = app;
