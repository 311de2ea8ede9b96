// Modelled on https://github.com/shoutem/redux-io/issues/49 ("memoize does not clear the
// history": lodash's memoize keeps every key forever), here keyed by a request parameter.
const _ = require('lodash');
const Koa = require('koa');
const Router = require('@koa/router');

const router = new Router();

const denormalize = _.memoize((collectionId) => ({ id: collectionId, items: [] })); // LEAK unbounded-cache

router.get('/collections/:id', (ctx) => {
  ctx.body = denormalize(ctx.params.id);
});

const app = new Koa();
app.use(router.routes());
module.exports = app;
