/** A numeric command-line option, refused outside its bounds (every loop and duration stays bounded). */
export function bounded(text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`${text} is not a number in ${min}..${max}`);
  return value;
}
