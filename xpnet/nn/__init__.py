"""The network's math, written once against the Python Array API standard.

Read it in this order, next to the tutorial's equations (docs/math.md):

1. [`network`][xpnet.nn.network]: the forward pass ``Z_l = A_{l−1}·W_lᵀ + b_l``,
   ``A_l = g(Z_l)``, and the backward pass ``dZ_L = (A_L − Y)/m``, ``dW_l = dZ_lᵀ·A_{l−1}``,
   ``db_l = Σ dZ_l``, ``dZ_{l−1} = (dZ_l·W_l) ⊙ g′(Z_{l−1})``.
2. [`activations`][xpnet.nn.activations] (``g`` and ``g′``) and [`losses`][xpnet.nn.losses]
   (the output layer: softmax + cross-entropy, identity + squared error, exp + Poisson).
3. [`step`][xpnet.nn.step]: one batch's forward pass, loss, backward pass and L2 term — the one
   function every training loop, ``MLP.gradients`` and ``xpnet.gradcheck`` call.
4. [`optim`][xpnet.nn.optim]: the update ``W ← W − α·dW`` and its refinements (momentum, Adam).

Beside that path: [`init`][xpnet.nn.init] (initial weights), [`dropout`][xpnet.nn.dropout]
(masks hashed on the device), and [`fast`][xpnet.nn.fast], the speed work (a memoised
vector of ones, device lookups) that the functions above call under names that say so.

Nothing here imports an array library: every function gets its namespace from its arguments.
"""
