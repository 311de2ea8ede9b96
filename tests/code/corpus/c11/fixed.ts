// Fixed shape of https://github.com/ustaxcourt/ef-cms/pull/5245: the logger and its listener
// are created once, when the app starts.
import express, { NextFunction, Request, Response } from 'express';

const app = express();

function flushLogs(buffer: string[]) {
  process.stdout.write(buffer.join('\n'));
}

export function logger() {
  const buffer: string[] = [];
  process.on('beforeExit', () => flushLogs(buffer));
  return (req: Request, res: Response, next: NextFunction) => {
    buffer.push(`${req.method} ${req.url}`);
    if (buffer.length > 1000) buffer.splice(0, buffer.length - 1000);
    next();
  };
}

app.use(logger());
