// Fixed shape of https://github.com/nkowaokwu/igbo_api/pull/719: a singleton client.
import express, { Request, Response } from 'express';
import Redis from 'ioredis';

const router = express.Router();
let redis: Redis | undefined;

function getRedis(): Redis {
  if (!redis) {
    redis = new Redis(process.env.REDIS_URL as string);
  }
  return redis;
}

router.get('/words/:word', async (req: Request, res: Response) => {
  const cached = await getRedis().get(`word:${req.params.word}`);
  res.json(cached ? JSON.parse(cached) : null);
});

export default router;
