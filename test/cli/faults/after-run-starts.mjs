// Calls `fault` 300 ms after the CLI printed its run header (the cases are running by then),
// by watching what it writes to stdout; the timer never keeps the process alive.
export function afterRunStarts(fault) {
  const write = process.stdout.write.bind(process.stdout);
  let armed = false;
  process.stdout.write = (chunk, ...rest) => {
    if (!armed && String(chunk).includes('test cases:')) {
      armed = true;
      setTimeout(fault, 300).unref();
    }
    return write(chunk, ...rest);
  };
}
