// Fixed shape of https://github.com/Sachinchaurasiya360/InternHack/pull/1217: a bound of 500,
// oldest entry evicted first.
import { Router, Request, Response } from 'express';

const router = Router();
const MAX_ENTRIES = 500;
const problemCache = new Map<string, unknown>();

async function fetchProblem(slug: string): Promise<unknown> {
  return { slug };
}

router.get('/problems/:slug', async (req: Request, res: Response) => {
  const slug = req.params.slug;
  if (problemCache.has(slug)) {
    return res.json(problemCache.get(slug));
  }
  const problem = await fetchProblem(slug);
  if (problemCache.size >= MAX_ENTRIES) {
    problemCache.delete(problemCache.keys().next().value as string);
  }
  problemCache.set(slug, problem);
  res.json(problem);
});

export default router;
