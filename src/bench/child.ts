/**
 * How a benchmark runs its own file again in a child process: from the TypeScript sources (a checkout) the child
 * needs the tsx loader; from the compiled package (dist/) plain node runs it.
 */
export function childLoader(file: string): string[] {
  return file.endsWith('.ts') ? ['--import', 'tsx'] : [];
}
