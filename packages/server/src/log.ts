// Log lines in Redis's format: "pid:M dd Mon yyyy hh:mm:ss.mmm * message", to stdout.

const LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'];
const MARKS = ['.', '-', '*', '#'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Log {
  private min: number;

  constructor(level: string) {
    this.min = Math.max(0, LEVELS.indexOf(level));
  }

  setLevel(level: string): void {
    this.min = Math.max(0, LEVELS.indexOf(level));
  }

  private write(level: number, msg: string): void {
    if (level < this.min) return;
    const d = new Date();
    const p2 = (n: number) => String(n).padStart(2, '0');
    const ts = `${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
    process.stdout.write(`${process.pid}:M ${ts} ${MARKS[level]} ${msg}\n`);
  }

  debug(msg: string): void {
    this.write(0, msg);
  }

  notice(msg: string): void {
    this.write(2, msg);
  }

  warning(msg: string): void {
    this.write(3, msg);
  }
}
