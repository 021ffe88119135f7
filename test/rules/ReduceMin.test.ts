import { test } from 'uvu';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceMin');

test.run();
