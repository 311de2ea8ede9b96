// Modelled on https://github.com/ustaxcourt/ef-cms/pull/5245 ("Fix MaxListenersExceededWarning":
// the logging middleware re-created its logger, and its listeners, on every request).
import express, { NextFunction, Request, Response } from 'express';

const app = express();

function flushLogs(buffer: string[]) {
  process.stdout.write(buffer.join('\n'));
}

export function logger() {
  return (req: Request, res: Response, next: NextFunction) => {
    const buffer: string[] = [];
    process.on('beforeExit', () => flushLogs(buffer)); // LEAK listener-leak
    buffer.push(`${req.method} ${req.url}`);
    next();
  };
}

app.use(logger());
