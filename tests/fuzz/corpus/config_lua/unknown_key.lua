return { telegram = { tokne = 'x' } }
