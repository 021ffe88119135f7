import { test } from 'uvu';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceL2');

test.run();
