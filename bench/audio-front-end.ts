/**
 * The audio front end's speed: log mel features (default settings) of one second of 16 kHz
 * speech-like audio, timed many times in this process after a warm-up, wall and CPU time.
 * `npx tsx bench/audio-front-end.ts` prints it alone.
 */
import { fileURLToPath } from 'node:url';
import { DEFAULT_FRONT_END, LogMelExtractor } from '../shared/audio/logmel';
import { median } from '../shared/median';

export interface FrontEndTimes {
  /** Wall-clock ms per second of audio: median, min, max over the rounds. */
  msPerSecond: number;
  min: number;
  max: number;
  cpuMsPerSecond: number;
  /** Seconds of audio per second of (median wall) time. */
  realTimeFactor: number;
}

export function timeFrontEnd(rounds = 200): FrontEndTimes {
  const rate = 16000;
  const audio = Float32Array.from(
    { length: rate },
    (_, i) => 0.3 * Math.sin(i * 0.07) * Math.sin(i * 0.0011) + 0.01 * Math.sin(i * 1.3),
  );
  const extractor = new LogMelExtractor(DEFAULT_FRONT_END, rate);
  const out = new Float32Array(extractor.frameCount(rate) * DEFAULT_FRONT_END.filters);
  for (let i = 0; i < 50; i++) extractor.features(audio, out);
  // Wall time per call (its median: a call the scheduler did not interrupt), and CPU time over all the
  // calls (the process's clock ticks too coarsely to time one call; on a busy machine it is the cost).
  const wall: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    extractor.features(audio, out);
    wall.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(c0);
  const msPerSecond = median(wall);
  return {
    msPerSecond,
    min: Math.min(...wall),
    max: Math.max(...wall),
    cpuMsPerSecond: (cpu.user + cpu.system) / 1000 / rounds,
    realTimeFactor: 1000 / msPerSecond,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t = timeFrontEnd();
  const range = `${t.min.toFixed(3)}–${t.max.toFixed(3)}`;
  const cpu = `CPU ${t.cpuMsPerSecond.toFixed(3)} ms`;
  const factor = `${Math.round(t.realTimeFactor)}× real time`;
  console.log(
    `audio front end: ${t.msPerSecond.toFixed(3)} ms per second of 16 kHz audio (${range}), ${cpu}: ${factor}`,
  );
}
