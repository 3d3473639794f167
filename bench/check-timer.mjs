/**
 * `BENCH_REFERENCE_TIMING=1` in the HTTP servers (`reference-server.mjs`, `http-server.mjs`): what
 * a token's check costs within a loaded server's requests against what it costs back to back.
 */

/**
 * Times checks one by one where they run, and, every `BURST_EVERY` checks, a burst of checks of
 * the inputs seen `REPLAY_AGO` checks before, back to back: a tight loop inside the same seconds of
 * the machine (its speed moves about 2× within a minute). Those tokens are older than the module's
 * cache holds (10,000 of the bench's 12,000), so the verifier checks each again; the replays turn a
 * few of the coming requests into cache hits (about 3 %), which this opt-in accepts.
 */
export function checkTimer() {
  // The inputs for the replays; the timings of a whole run (a run of the bench stays below 2^19 checks).
  const SIZE = 1 << 15;
  const TIMINGS = 1 << 19;
  const BURST_EVERY = 256;
  const BURST = 8;
  const REPLAY_AGO = 10_500;
  const inputs = new Array(SIZE);
  const inRequest = new Float64Array(TIMINGS);
  const inLoop = new Float64Array(TIMINGS);
  let count = 0;
  let timed = 0;
  let looped = 0;
  const medianMicros = (values) => values.slice().sort()[values.length >> 1] * 1000;
  function burst(check) {
    for (let i = 0; i < BURST; i++) {
      const started = performance.now();
      check(inputs[(count - REPLAY_AGO + i) % SIZE]);
      // The first check of a burst follows the server's other work; the rest follow a check.
      if (i > 0 && looped < TIMINGS) inLoop[looped++] = performance.now() - started;
    }
  }
  return {
    time(check, input) {
      const started = performance.now();
      const answer = check(input);
      // From the first burst on, so that both medians cover the same seconds.
      if (count >= REPLAY_AGO && timed < TIMINGS) inRequest[timed++] = performance.now() - started;
      inputs[count % SIZE] = input;
      count++;
      if (count % BURST_EVERY === 0 && count > REPLAY_AGO) burst(check);
      return answer;
    },
    /** Prints both medians to stderr, once there was a burst. */
    report(name) {
      if (looped === 0) return;
      const underLoad = medianMicros(inRequest.subarray(0, timed));
      const inALoop = medianMicros(inLoop.subarray(0, looped));
      process.stderr.write(
        `reference timing, ${name}: median ${underLoad.toFixed(2)} µs within a request (${timed} checks), ` +
          `${inALoop.toFixed(2)} µs back to back (${looped} checks in bursts among them): ${(underLoad / inALoop).toFixed(2)}×\n`,
      );
    },
  };
}

/**
 * The module's `verify` with only its new tokens timed: a cache hit answers as `verify` would, a
 * miss goes through the verifier's new-token path (`verifyNew`, private: this is a diagnostic)
 * under `timer`, so that neither repeated tokens nor the replays' cache hits enter the medians.
 */
export function timeNewTokens(verifier, timer) {
  const verifyNew = (token) => verifier['verifyNew'](token);
  return (token) => verifier.fromCache(token) ?? timer.time(verifyNew, token);
}
