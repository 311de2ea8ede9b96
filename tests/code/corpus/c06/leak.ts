// Modelled on https://github.com/nkowaokwu/igbo_api/pull/719 ("keep the same Redis client
// open to reduce the number of open connections"): a new ioredis client per request.
import express, { Request, Response } from 'express';
import Redis from 'ioredis';

const router = express.Router();

router.get('/words/:word', async (req: Request, res: Response) => {
  const redis = new Redis(process.env.REDIS_URL as string); // LEAK unreleased-connection
  const cached = await redis.get(`word:${req.params.word}`);
  res.json(cached ? JSON.parse(cached) : null);
});

export default router;
