// Modelled on https://github.com/Sachinchaurasiya360/InternHack/pull/1217 ("Unbounded cache
// growth in leetcode router"; the fix adds LRU eviction with a maximum of 500 entries).
import { Router, Request, Response } from 'express';

const router = Router();
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
  problemCache.set(slug, problem); // LEAK unbounded-cache
  res.json(problem);
});

export default router;
