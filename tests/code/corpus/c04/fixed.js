// Fixed shape of https://github.com/coopernurse/node-pool/issues/182: validate before
// acquiring, release in finally.
const genericPool = require('generic-pool');
const Koa = require('koa');

const smtpPool = genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 4 });
const app = new Koa();

app.use(async (ctx, next) => {
  if (!ctx.request.body || !ctx.request.body.to) {
    ctx.status = 400;
    return;
  }
  const transport = await smtpPool.acquire();
  try {
    transport.send(ctx.request.body);
  } finally {
    smtpPool.release(transport);
  }
  ctx.status = 202;
  await next();
});

module.exports = app;
