// A Zebra-style label printer on loopback for the browser tests, speaking the real bytes as
// tests/support/zpl_printer.hpp does for the C++ tests: a ~HS on any connection is answered with
// the three <STX>...<ETX><CR><LF> strings of the ZPL II Programming Guide ("~HS Host Status
// Return") built from `flags`; the rest of a connection is one job, recorded when the station
// closes its side. `silent` hears ~HS and says nothing; close() switches it off (connections
// refused) and listen(port) on again. Emits "query" for each ~HS and "job" for each job.
import { EventEmitter, once } from "node:events";
import net from "node:net";

export class VirtualZplPrinter extends EventEmitter {
  constructor() {
    super();
    this.flags = { paperOut: false, headOpen: false, ribbonOut: false, paused: false };
    this.silent = false;
    this.jobs = [];
    this.queries = 0;
    this.port = 0;
    this.server = null;
    this.sockets = new Set();
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  async listen(port = 0) {
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.#serve(socket));
    this.server.listen(port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = this.server.address().port;
  }

  async close() {
    const closed = once(this.server, "close");
    this.server.close();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  // String 1 aaa,b,c,...: b paper out, c pause. String 2 mmm,n,o,p,...: o head up, p ribbon out.
  // String 3 xxxx,y.
  answer() {
    const bit = (b) => (b ? "1" : "0");
    const f = this.flags;
    const line = (fields) => `\x02${fields}\x03\r\n`;
    return (
      line(`030,${bit(f.paperOut)},${bit(f.paused)},1218,000,0,0,0,000,0,0,0`) +
      line(`001,0,${bit(f.headOpen)},${bit(f.ribbonOut)},1,2,6,0,00000000,1,000`) +
      line("1234,0")
    );
  }

  // Resolves once `n` jobs have arrived in all.
  async waitForJobs(n, what = `${n} print job(s)`, timeoutMs = 30000) {
    return this.#waitFor("job", () => this.jobs.length >= n, what, timeoutMs);
  }

  // Resolves once `more` further ~HS have been heard.
  async waitForQueries(more, timeoutMs = 30000) {
    const target = this.queries + more;
    return this.#waitFor("query", () => this.queries >= target, `${more} more ~HS`, timeoutMs);
  }

  #waitFor(event, done, what, timeoutMs) {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(event, check);
        reject(new Error(`the virtual printer timed out waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.off(event, check);
        resolve();
      };
      this.on(event, check);
    });
  }

  #serve(socket) {
    this.sockets.add(socket);
    socket.setEncoding("latin1");
    let data = "";
    let scanned = 0;
    socket.on("data", (chunk) => {
      data += chunk;
      // A ~ command acts as soon as it is read, wherever it is in the stream.
      for (;;) {
        const at = data.indexOf("~HS", scanned);
        if (at < 0) break;
        data = data.slice(0, at) + data.slice(at + 3);
        scanned = at;
        this.queries += 1;
        if (!this.silent) socket.write(this.answer(), "latin1");
        this.emit("query");
      }
      scanned = Math.max(0, data.length - 2);
    });
    socket.on("end", () => {
      if (data.length) {
        this.jobs.push(data);
        this.emit("job", data);
      }
      socket.end();
    });
    socket.on("error", () => {});
    socket.on("close", () => this.sockets.delete(socket));
  }
}
