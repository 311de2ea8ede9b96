// Modelled on the fix in https://github.com/martinj/node-mysql-promise/pull/2
// ("Release connection also on error"): the error branch of the query returned early.
const express = require('express');
const mysql = require('mysql');

const pool = mysql.createPool({ connectionLimit: 10 });
const router = express.Router();

router.get('/orders/:id', (req, res, next) => {
  pool.getConnection((err, connection) => { // LEAK unreleased-connection
    if (err) return next(err);
    connection.query('SELECT * FROM orders WHERE id = ?', [req.params.id], (qerr, rows) => {
      if (qerr) return next(qerr);
      connection.release();
      res.json(rows[0]);
    });
  });
});

module.exports = router;
