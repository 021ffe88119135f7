import * as fs from 'fs';
import * as os from 'os';

/**
 * Physical cores this process may use: on Linux the distinct sets of SMT siblings under
 * `cpuRoot` (sysfs), at most os.availableParallelism() (the CPUs of the process's affinity
 * mask); elsewhere, or when sysfs cannot be read, os.availableParallelism(). onnxruntime's and
 * PyTorch's own defaults also aim for one thread per physical core, but on this 2-core VM (sysfs
 * and lscpu: two cores, one thread each) both start one thread, at half the speed.
 */
export function physicalCores(cpuRoot = '/sys/devices/system/cpu'): number {
  const logical = os.availableParallelism();
  try {
    const cores = new Set<string>();
    for (const name of fs.readdirSync(cpuRoot)) {
      if (!/^cpu\d+$/.test(name)) continue;
      try {
        cores.add(fs.readFileSync(`${cpuRoot}/${name}/topology/thread_siblings_list`, 'utf8').trim());
      } catch {
        // An offline CPU has no topology folder.
      }
    }
    return cores.size ? Math.min(cores.size, logical) : logical;
  } catch {
    return logical;
  }
}
