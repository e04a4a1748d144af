// A small line of recent values (SVG, no library): ACL rule hits, the kiosk's class traffic. It is
// decoration: the text beside it says the numbers.
import { sparkPath } from './graph-data.js';

/** `stretch`: fill the box CSS gives it (the line keeps its width). */
export function Sparkline(props: { values: number[]; width: number; height: number; color?: string; floor?: number; class?: string; stretch?: boolean }) {
  const d = sparkPath(props.values, props.width, props.height, props.floor ?? 1);
  return (
    <svg class={`g-spark ${props.class ?? ''}`} width={props.width} height={props.height} viewBox={`0 0 ${props.width} ${props.height}`} aria-hidden="true" focusable="false"
      data-points={props.values.length} preserveAspectRatio={props.stretch ? 'none' : undefined}>
      {d && <path d={d} stroke={props.color ?? 'currentColor'} vector-effect={props.stretch ? 'non-scaling-stroke' : undefined} />}
    </svg>
  );
}
