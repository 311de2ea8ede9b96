// Fixed shape of https://github.com/shoutem/redux-io/issues/49: the memoize cache replaced
// by a bounded LRU.
const _ = require('lodash');
const { LRUCache } = require('lru-cache');
const Koa = require('koa');
const Router = require('@koa/router');

const router = new Router();

const denormalize = _.memoize((collectionId) => ({ id: collectionId, items: [] }));
denormalize.cache = new LRUCache({ max: 200 });

router.get('/collections/:id', (ctx) => {
  ctx.body = denormalize(ctx.params.id);
});

const app = new Koa();
app.use(router.routes());
module.exports = app;
