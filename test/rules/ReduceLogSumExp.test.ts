import { test } from 'uvu';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceLogSumExp');

test.run();
