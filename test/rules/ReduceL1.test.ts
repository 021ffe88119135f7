import { test } from 'uvu';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceL1');

test.run();
