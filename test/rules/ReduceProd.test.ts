import { test } from 'uvu';
import { reduceCases } from '../support/reduce-cases';

// Factors away from 0, where the product's finite differences stay well scaled.
reduceCases('ReduceProd', { shape: [2, 3, 4], range: [0.5, 1.5] });

test.run();
