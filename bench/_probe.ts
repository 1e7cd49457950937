import { loadEeSet } from '../src-main/data/eeset';
const t=performance.now();
const d = await loadEeSet('/work/shared/datasets/ee-set', { frames: 70, splits: ['train'] });
console.log(performance.now()-t, Object.entries(d.splits).map(([k,s])=>[k,s?.n, s?.frames, s?.channels]), d.classes);
