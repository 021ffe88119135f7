import { test } from 'uvu';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceSumSquare');

test.run();
