import { execFileSync } from 'child_process';

/** Whether Debian's /usr/bin/python3 can import these modules (e.g. 'torch, torchvision'). */
export function pythonImports(modules: string): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
