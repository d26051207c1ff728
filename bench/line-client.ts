/** A line client for request-reply measurements, one request at a time on one connection. */
import net from 'node:net';
import { BenchError } from './bench-error.js';

/** One connection that sends a line and waits for the reply, framed by a blank line (WHATSAT) or a newline. */
export class LineClient {
  private buffered = '';
  private waiter: ((reply: string) => void) | undefined;
  private framing = '\n\n';

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      const end = this.buffered.indexOf(this.framing);
      if (end !== -1 && this.waiter !== undefined) {
        const reply = this.buffered.slice(0, end + this.framing.length);
        this.buffered = this.buffered.slice(end + this.framing.length);
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter(reply);
      }
    });
  }

  static connect(host: string, port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new LineClient(socket)));
      socket.once('error', (error) => reject(new BenchError(`${host}:${port}: ${error.message}`, { cause: error })));
    });
  }

  ask(line: string, framing: '\n' | '\n\n'): Promise<string> {
    this.framing = framing;
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.socket.write(line);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
